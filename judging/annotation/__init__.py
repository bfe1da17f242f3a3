"""Human annotation: which defender replies people label, who labels each, how far they are, and
how much they agree.

- models.py: campaigns, their items (one defender reply each) and assignments (an item given to one
  annotator); the labels themselves are the label core's Annotation rows (judging/models.py);
- selectors.py: the queue, progress, agreement reports and adjudication candidates;
- services/: building, assigning, reassigning and closing campaigns (campaigns.py), labels to and
  from files (offline.py, with the rows of resources.py);
- agreement.py: the inter-annotator agreement statistics (its docstring names each and its source);
- forms.py: the label form and the reply picker; cwe.py: the CWE list annotators pick from;
- admin/: the organizers' campaign pages (campaigns.py) and the annotator's queue (queue.py).

Labels are written only through the label core (judging/services/annotations.py). This package's
__init__ imports nothing: judging/models.py imports annotation/models.py while the app loads.
"""
