"""The command-line programs: one module per ``slowfast-custom`` subcommand (and ``tools/*.py`` script).

Each module has ``main(argv=None) -> int``; heavy libraries are imported inside ``main``, so that listing the
commands (``slowfast-custom --help``) imports neither torch nor upstream.
"""
