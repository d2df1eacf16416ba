/*
 * config_digest.h - what arvados_config_source_timestamp_seconds{sha256} and
 * arvados_config_load_timestamp_seconds{sha256} (spec 8) publish: the SHA-256 of the config
 * file (lower-case hex) and its modification time. Read once at start-up, right after the
 * config was loaded from the same path.
 */
#ifndef ADC_CONFIG_DIGEST_H
#define ADC_CONFIG_DIGEST_H

/* 0, or -errno when the file cannot be read (the metrics are then left out). */
int config_digest(const char *path, char hex[65], double *mtime);

#endif
