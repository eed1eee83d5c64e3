"""The LSTM itself: its maths, its training loop and the engines that run it.

Private: the estimators at the top of the package are its only users.
"""
