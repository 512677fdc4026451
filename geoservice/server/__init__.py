"""The HTTP server: pygeoapi + Flask + our fast paths, one sub-package per surface."""
