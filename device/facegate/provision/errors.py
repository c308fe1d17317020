"""The one error provisioning raises for bad input: printed as one line, nothing written."""

from facegate.errors import FacegateError


class ProvisionError(FacegateError):
    """A fleet file, a base image, a wheelhouse or a secrets directory that cannot be used."""
