from gd2po.cli import main

raise SystemExit(main())
