# Light image for the webhook and the action server on Python 3.12 (no TensorFlow: Rasa has its own 3.10 image).
FROM python:3.12-slim
# The webhook listens on every interface of its container (nginx and the network are in front).
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/app WEBHOOK_HOST=0.0.0.0
WORKDIR /app
COPY requirements/app.lock requirements/app.lock
RUN pip install --no-cache-dir -r requirements/app.lock
COPY . .
RUN useradd --system --uid 1001 mobilis && chown -R mobilis /app
USER mobilis
EXPOSE 8080 5055
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "webhook:app"]
