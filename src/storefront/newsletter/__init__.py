"""The newsletter on the owner's own list: draft, render, send and manage subscribers.

Builds on the form endpoint (:mod:`storefront.forms`): its database (subscribers, issues, the
outbox), its mailer, its sender claims and its signed links; and on the site's stages for what an
issue shows (the site model, the theme's ``email/`` templates). The owner's commands are in
:mod:`storefront.newsletter.commands`, the only module here that prints.
"""
