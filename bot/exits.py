"""Exit codes of ``kyr-bot`` (sysexits), shared by the command line and the start-up explainer.

``EXIT_CONFIG``: the configuration must be fixed (the systemd unit stops restarting on it);
``EXIT_RETRY``: the cause may pass, so a restart later can work.
"""

EXIT_CONFIG = 78
EXIT_RETRY = 75
