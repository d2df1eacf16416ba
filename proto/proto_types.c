/* proto_types.c - the catalogue's names, directions and roles. */
#include "proto.h"

#include <errno.h>
#include <stdio.h>

struct proto_type_info {
	uint16_t num;
	const char *name;
	enum proto_dir dir;
	enum proto_role role;
	bool streams;
};

static const struct proto_type_info proto_types[] = {
#define PROTO_INFO_(name, num, dir, role, streams) { (num), #name, (dir), (role), (streams) },
	PROTO_TYPES(PROTO_INFO_)
#undef PROTO_INFO_
};

static const struct proto_type_info *
proto_type_find(uint16_t type)
{
	for (size_t i = 0; i < sizeof(proto_types) / sizeof(proto_types[0]); i++)
		if (proto_types[i].num == type)
			return &proto_types[i];
	return NULL;
}

const char *
proto_type_str(uint16_t type)
{
	static _Thread_local char buf[24];
	const struct proto_type_info *t = proto_type_find(type);

	if (t != NULL)
		return t->name;
	snprintf(buf, sizeof(buf), "unknown(%u)", (unsigned)type);
	return buf;
}

bool
proto_type_known(uint16_t type)
{
	return proto_type_find(type) != NULL;
}

int
proto_type_check(uint16_t type, enum proto_dir dir, enum proto_role role)
{
	const struct proto_type_info *t = proto_type_find(type);

	if (t == NULL || t->dir != dir)
		return -EPROTO;
	if (t->role != PROTO_ROLE_ANY && t->role != role)
		return -EPROTO;
	return 0;
}

bool
proto_type_streams(uint16_t type)
{
	const struct proto_type_info *t = proto_type_find(type);

	return t != NULL && t->streams;
}
