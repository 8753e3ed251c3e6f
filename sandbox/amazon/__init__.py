"""The sandbox's Amazon: Login with Amazon, Seller Central consent and the SP-API."""
