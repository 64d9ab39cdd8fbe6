"""`corrigenda diff`: what a change to a spec or a prompt will cost and change, and what changed between releases."""
