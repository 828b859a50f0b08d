"""Errors meant for people: the CLI prints them as one line and exits with code 2."""


class UserError(Exception):
    """A mistake in user input (config, path, argument). The message names what was wrong and the fix."""
