"""Everything the CLI prints for people: tables, one-line reports, progress bars.

Commands parse, call the public API and hand the result to a function here;
no command formats text itself. Stored strings pass through
:func:`~opmodel_cli.render.plain.plain` or :func:`~opmodel_cli.render.plain.cell`
on their way out, so a hostile name is shown, never obeyed. rich is imported
only when something is drawn: a command that prints JSON need not pay for it.
"""
