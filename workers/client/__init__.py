"""The worker client: connects to the master, starts executors, streams run directories.

Imports no Django and needs no database; `python -m workers.client` or
`manage.py runworker_client` start it.
"""
