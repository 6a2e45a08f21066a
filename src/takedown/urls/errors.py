"""The one error the URL functions raise."""


class InvalidURL(ValueError):
    """A string that is not a usable http(s) URL; the message says why."""
