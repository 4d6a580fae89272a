"""`python -m bot` is `statusbot`."""

from bot.cli import main

raise SystemExit(main())
