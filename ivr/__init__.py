"""The phone menu (IVR): the tree as data, speech understanding, and the voice webhooks that walk it."""
