-- Run once by the postgres container on an empty volume: Rasa's tracker store gets its own database.
CREATE DATABASE mobilis_rasa OWNER mobilis;
