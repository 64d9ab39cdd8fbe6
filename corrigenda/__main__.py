from corrigenda.cli import main

raise SystemExit(main())
