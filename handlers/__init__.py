"""Domain operations and chat handlers, one module or package per domain.

Plain Python: a session in, a result out. May import models, nlp and config; never bot,
flask, wechatpy or redis. Handlers never commit, never send, never see XML: the boundary
(pipeline, job runner, CLI, admin view) commits and delivers.

Importing a module here wires nothing: each domain declares its handlers on a ``Routes`` and
``handlers.wiring.build_registry`` adds them all, in one visible list.
"""
