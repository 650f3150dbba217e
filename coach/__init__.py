"""coach: an offline, hands-free voice coach for the gym."""

__version__ = "0.1.0"
