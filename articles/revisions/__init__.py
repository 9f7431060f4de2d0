"""Proposals and their review: permissions, proposing, the publish action, merging, diffs,
notifications and reader corrections.

Uses publishing, models and content.
"""
