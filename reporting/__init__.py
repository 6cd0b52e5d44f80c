"""Report files rendered from the domain core's plain data (HTML, PNG charts, CSV).

Kept out of ``bot/``: the core decides what a report says, this package how it looks on
disk. Only the ``coach`` command line imports it, when a report is asked for.
"""
