# Orchestra's own version: the service's schema and the master registry show it.
VERSION = "1.0.0"
