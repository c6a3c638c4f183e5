"""`python -m bot` is the same as the `hearth` command."""

from bot.cli import main

raise SystemExit(main())
