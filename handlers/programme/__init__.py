"""The brand programme (issue 6): brands and the union tree, member imports, cadre invitations
and binding, the brand lifecycle with evidence gates and a timeline, plans, progress reports and
photos, self-evaluations and reviews against the five standards, and the coverage report.

State changes are in ``operations`` (their rules in ``gates``, the round's evidence in
``evidence``), read models in ``queries``, file imports in ``imports``. Importing this package
registers its chat handlers and jobs.
"""

from handlers.programme import binding as binding
from handlers.programme import photos as photos
from handlers.programme import progress as progress
from handlers.programme import status as status
