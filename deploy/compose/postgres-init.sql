-- MLflow's backend lives beside shipml's run store, in its own database.
CREATE DATABASE mlflow OWNER shipml;
