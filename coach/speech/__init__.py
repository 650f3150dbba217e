"""The only package that touches audio devices or speech libraries."""
