from django.contrib.admin.apps import AdminConfig


class ArenaAdminConfig(AdminConfig):
    """``django.contrib.admin`` with the arena's site (config/admin_site.py) as ``admin.site``."""

    default_site = "config.admin_site.ArenaAdminSite"
