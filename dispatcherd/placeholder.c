/* placeholder.c - keeps adc_dispatcherd non-empty until the real modules land. */
int adc_dispatcherd_placeholder;
