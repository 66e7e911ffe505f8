FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY pulsehub pulsehub
COPY connectors connectors
COPY model model
COPY sync sync
COPY scoring scoring
COPY escalation escalation
COPY reporting reporting
COPY sandbox sandbox
RUN pip install --no-cache-dir -e . \
 && useradd --create-home pulsehub \
 && mkdir -p /var/lib/pulsehub /app/var \
 && chown pulsehub:pulsehub /var/lib/pulsehub /app/var
# beat's schedule state lives in /var/lib/pulsehub (a volume in docker-compose.yml)
VOLUME ["/var/lib/pulsehub"]
USER pulsehub
ENTRYPOINT ["pulsehub"]
CMD ["--help"]
