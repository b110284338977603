"""The one exception type for bad input, so every caller can show it as a message."""


class InputError(ValueError):
    """A predictions file or argument that cannot be used as given.

    The message names the file, the column, the first offending rows and
    what was expected versus what was found; it is meant to be shown to a
    person as it is.
    """
