"""The field app's domain (issue #15): the signed-in user's tasks from the latest plan, and records made on a phone.

Every record goes through the same domain functions as the web pages and the CLI (geo.inspection.results,
geo.register.hazard, geo.encroachment.register, geo.register.change_status) on the request's connection, so the
database role and row-level security of geo.access decide the scope; geo.field.submit makes each record
idempotent on the phone's client id. No HTTP here.
"""
