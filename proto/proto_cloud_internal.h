/*
 * proto_cloud_internal.h - the field encoders and decoders the cloud verbs share
 * (proto_cloud_fields.c; used by proto_cloud.c). Not for use outside proto/.
 */
#ifndef ADC_PROTO_CLOUD_INTERNAL_H
#define ADC_PROTO_CLOUD_INTERNAL_H

#include "proto_cloud.h"

/* Smallest encodings, for the count checks. */
#define PC_MIN_TAG   8u
#define PC_MIN_ERR   36u
#define PC_MIN_INST  41u
#define PC_MIN_PRICE 16u
#define PC_MIN_ID    4u

int pc_get_count(struct proto_rbuf *r, uint32_t *n, uint32_t max, size_t min_each);
void pc_put_count(struct proto_wbuf *w, uint32_t n, uint32_t max);
void pc_free_strv(char **v, uint32_t n);
void pc_put_tags(struct proto_wbuf *w, const struct proto_cloud_tags *t);
void pc_get_tags(struct proto_rbuf *r, struct proto_cloud_tags *t);
void pc_tags_free(struct proto_cloud_tags *t);
size_t pc_tags_size(const struct proto_cloud_tags *t);
bool pc_err_valid(const struct proto_cloud_err *e);
void pc_put_err(struct proto_wbuf *w, const struct proto_cloud_err *e);
void pc_get_err(struct proto_rbuf *r, struct proto_cloud_err *e);
uint32_t pc_get_ans_list(struct proto_rbuf *r, struct proto_cloud_err *err, void **v, size_t size,
			 uint32_t max, size_t min_each);
size_t pc_len(const char *s);
void pc_put_itype(struct proto_wbuf *w, const struct proto_cloud_itype *t);
void pc_get_itype(struct proto_rbuf *r, struct proto_cloud_itype *t);
void pc_itype_free(struct proto_cloud_itype *t);
void pc_put_inst(struct proto_wbuf *w, const struct proto_cloud_inst *i);
void pc_get_inst(struct proto_rbuf *r, struct proto_cloud_inst *i);
void pc_inst_free(struct proto_cloud_inst *i);

#endif
