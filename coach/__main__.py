"""`python -m coach`."""

from coach.cli.main import main

raise SystemExit(main())
