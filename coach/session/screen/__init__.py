"""The screen: a terminal dashboard and a web page, both drawn from one ScreenModel that the
session's events keep up to date."""
