"""Not a test package: ``run_darc.py`` is a developer tool that needs a DARC-SPICE checkout."""

collect_ignore_glob = ["*.py"]
