"""The API's SQL, one module per area; routes call these, never write SQL themselves."""
