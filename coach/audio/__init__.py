"""Audio devices shared by hearing (microphones) and voice (speakers)."""
