"""``python -m interp.experiment NAME``: run a claim from its registry entry (:func:`interp.experiment.main`)."""

from interp.experiment import main

raise SystemExit(main())
