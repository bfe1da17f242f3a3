"""A scored round's standings: their models (models.py), the reads that lay them out for the admin,
the API and `manage.py standings` (selectors.py), and their read-only admin (admin.py). They are
written only by competition/pipeline/scoring.py, from the round's final labels."""
