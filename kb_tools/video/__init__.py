"""The video FAQ: sidecar sources, ffmpeg processing (cached), captions, pages and embeds.

The seam for the plugin and the CLI is `kb_tools.video.build.VideoLibrary`.
"""
