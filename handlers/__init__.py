"""Domain operations and chat handlers, one module per domain.

Plain Python: a session in, a result out. May import models, nlp and config; never bot,
flask, wechatpy or redis. Handlers never commit, never send, never see XML: the boundary
(pipeline, job runner, CLI, admin view) commits and delivers.

Importing this package registers every domain module's handlers (see ``registry``); the
``as`` re-exports mark these imports as wanted for their registration side effects.
"""

from handlers import asking_back as asking_back
from handlers import delivery as delivery
from handlers import help as help
from handlers import members as members
from handlers import members_rights as members_rights
from handlers import notify as notify
from handlers import pages as pages
from handlers import programme as programme
from handlers import recognition as recognition
from handlers import retention as retention
from handlers import status as status
from handlers import suggestions as suggestions
from handlers import surveys as surveys
from handlers import understanding as understanding
