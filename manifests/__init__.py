"""App manifest templates, filled with the public base URL by ``pairtime manifests``."""
