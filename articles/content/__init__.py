"""Content as text: Markdown and its sanitiser, citation style, partial dates, languages, image uploads.

The bottom layer: nothing here imports the models or anything above.
"""
