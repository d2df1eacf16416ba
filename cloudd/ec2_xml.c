/* ec2_xml.c - libexpat callbacks building the bounded element tree.
 *
 * The tree of one answer lives in a few large blocks freed together. A DescribeInstances page
 * of 1,000 instances is some 100,000 elements; as three small mallocs each (node, name, text
 * grown by realloc) it took about 13 MB that glibc kept in its heap once freed, so cloudd's
 * RSS stood near its peak between two lists (bench_e2e_scale). Blocks of EC2_XBLOCK bytes
 * are above cloudd's fixed mmap threshold (main.c): freed, they go back to the system. */
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "ec2_xml.h"

#define EC2_XBLOCK (256u * 1024u)

/* The first block of a tree starts with its root node (ec2_xml_free finds the block from
 * it); the later ones are chained after the first. */
struct ec2_xblock {
	struct ec2_xblock *next;
	size_t used, cap;
	alignas(max_align_t) char mem[];
};

/* Distinct element names kept once per tree (an EC2 instance is some 90 elements of a few
 * dozen names); beyond that many, names are copied per element. */
#define EC2_XNAMES 256

struct ec2_xctx {
	XML_Parser p;
	struct ec2_xnode *root;
	/* The open elements, outermost first (open[depth - 1] is the current one), and the
	 * last child of each so far: kept here, not in every node. */
	struct ec2_xnode *open[EC2_XML_MAX_DEPTH], *last[EC2_XML_MAX_DEPTH];
	struct ec2_xblock *first, *block; /* block: the one allocations come from */
	size_t depth, nodes, n_names;
	const char *names[EC2_XNAMES]; /* open addressing, by ec2_xml_hash */
	char err[160];
};

/* Text of an element without any: shared, never written (an append copies it first). */
static char ec2_xml_empty[1];

static void
ec2_xml_fail(struct ec2_xctx *c, const char *msg)
{
	if (!c->err[0])
		snprintf(c->err, sizeof(c->err), "%s at line %lu", msg,
			 (unsigned long)XML_GetCurrentLineNumber(c->p));
	XML_StopParser(c->p, XML_FALSE);
}

/* A new current block with room for at least need bytes; NULL on ENOMEM. */
static struct ec2_xblock *
ec2_xml_block(struct ec2_xctx *c, size_t need)
{
	size_t cap = need > EC2_XBLOCK - sizeof(struct ec2_xblock)
			     ? need
			     : EC2_XBLOCK - sizeof(struct ec2_xblock);
	struct ec2_xblock *b = malloc(sizeof(*b) + cap);

	if (!b)
		return NULL;
	b->used = 0;
	b->cap = cap;
	if (!c->first) {
		b->next = NULL;
		c->first = b;
	} else {
		b->next = c->first->next;
		c->first->next = b;
	}
	c->block = b;
	return b;
}

/* size bytes from the current block (a new one when it is full), 8-byte aligned. */
static void *
ec2_xml_alloc(struct ec2_xctx *c, size_t size)
{
	struct ec2_xblock *b = c->block;
	size_t at = b ? (b->used + 7u) & ~(size_t)7u : 0;

	if (!b || at > b->cap || b->cap - at < size) {
		if (!(b = ec2_xml_block(c, size)))
			return NULL;
		at = 0;
	}
	b->used = at + size;
	return b->mem + at;
}

static uint32_t
ec2_xml_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The tree's copy of an element name: one per distinct name. NULL on ENOMEM. */
static const char *
ec2_xml_name(struct ec2_xctx *c, const char *name)
{
	size_t len = strlen(name) + 1, k = ec2_xml_hash(name) & (EC2_XNAMES - 1);
	char *copy;

	for (; c->names[k]; k = (k + 1) & (EC2_XNAMES - 1))
		if (strcmp(c->names[k], name) == 0)
			return c->names[k];
	if (!(copy = ec2_xml_alloc(c, len)))
		return NULL;
	memcpy(copy, name, len);
	if (c->n_names < EC2_XNAMES / 2) { /* keep probes short; the rest is not kept */
		c->names[k] = copy;
		c->n_names++;
	}
	return copy;
}

static void
ec2_xml_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct ec2_xctx *c = ud;
	const char *local = strrchr(name, '\x01');
	struct ec2_xnode *n, *up = c->depth ? c->open[c->depth - 1] : NULL;

	(void)atts;
	if (c->err[0])
		return;
	if (c->depth >= EC2_XML_MAX_DEPTH)
		return ec2_xml_fail(c, "XML nested too deeply");
	if (++c->nodes > EC2_XML_MAX_NODES)
		return ec2_xml_fail(c, "XML has too many elements");
	if (!up && c->root)
		return ec2_xml_fail(c, "XML has several root elements");
	/* The node first: the root must open the tree's first block (ec2_xml_free). */
	n = ec2_xml_alloc(c, sizeof(*n));
	if (!n || !(local = ec2_xml_name(c, local ? local + 1 : name)))
		return ec2_xml_fail(c, "out of memory");
	*n = (struct ec2_xnode){ .name = local, .text = ec2_xml_empty };
	if (!up) {
		c->root = n;
	} else {
		/* An element with children has no text: what came before its first child was
		 * the whitespace EC2 and Azure put between elements (neither has mixed content). */
		up->text = ec2_xml_empty;
		up->text_len = 0;
		if (up->child)
			c->last[c->depth - 1]->next = n;
		else
			up->child = n;
		c->last[c->depth - 1] = n;
	}
	c->open[c->depth++] = n;
}

static void
ec2_xml_end(void *ud, const XML_Char *name)
{
	struct ec2_xctx *c = ud;

	(void)name;
	if (c->err[0] || !c->depth)
		return;
	c->depth--;
}

/* Character data of the current element. Only an element without children keeps text, and
 * nothing else is allocated while it is current: its text is the last thing in the current
 * block and grows in place (moved to a new block, with room to grow, when that one is
 * full). */
static void
ec2_xml_chars(void *ud, const XML_Char *s, int len)
{
	struct ec2_xctx *c = ud;
	struct ec2_xnode *n = c->depth ? c->open[c->depth - 1] : NULL;
	struct ec2_xblock *b = c->block;
	size_t add = (size_t)len;

	if (c->err[0] || !n || len <= 0 || n->child)
		return;
	if (n->text_len + add > EC2_XML_MAX_TEXT)
		return ec2_xml_fail(c, "XML text too long");
	if (n->text_len > 0 && b->cap - b->used >= add) {
		b->used += add;
	} else {
		size_t need = n->text_len + add + 1;
		char *t;

		/* A block with room to grow in place: a long text in many pieces (one per entity)
		 * is copied a few times, not once per piece. */
		if ((!b || b->cap - b->used < need + 7) && !ec2_xml_block(c, 2 * need))
			return ec2_xml_fail(c, "out of memory");
		if (!(t = ec2_xml_alloc(c, need)))
			return ec2_xml_fail(c, "out of memory");
		memcpy(t, n->text, n->text_len);
		n->text = t;
	}
	memcpy(n->text + n->text_len, s, add);
	n->text_len += (uint32_t)add;
	n->text[n->text_len] = 0;
}

/* No DOCTYPE means no internal entities: nothing to expand, no "billion laughs". */
static void
ec2_xml_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
		int has_internal)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal;
	ec2_xml_fail(ud, "XML DOCTYPE refused");
}

static void
ec2_xml_free_blocks(struct ec2_xblock *b)
{
	while (b) {
		struct ec2_xblock *next = b->next;

		free(b);
		b = next;
	}
}

void
ec2_xml_free(struct ec2_xnode *root)
{
	if (root)
		ec2_xml_free_blocks(
			(struct ec2_xblock *)((char *)root - offsetof(struct ec2_xblock, mem)));
}

int
ec2_xml_parse(const char *buf, size_t len, struct ec2_xnode **root, char *err, size_t errlen)
{
	struct ec2_xctx c;
	enum XML_Status st;

	memset(&c, 0, sizeof(c));
	*root = NULL;
	if (len > (size_t)0x7fffffff) {
		snprintf(err, errlen, "XML answer too large");
		return -EINVAL;
	}
	c.p = XML_ParserCreateNS(NULL, '\x01');
	if (!c.p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	XML_SetUserData(c.p, &c);
	XML_SetElementHandler(c.p, ec2_xml_start, ec2_xml_end);
	XML_SetCharacterDataHandler(c.p, ec2_xml_chars);
	XML_SetStartDoctypeDeclHandler(c.p, ec2_xml_doctype);
	st = XML_Parse(c.p, buf, (int)len, XML_TRUE);
	if (st != XML_STATUS_OK && !c.err[0])
		snprintf(c.err, sizeof(c.err), "%s at line %lu column %lu",
			 XML_ErrorString(XML_GetErrorCode(c.p)),
			 (unsigned long)XML_GetCurrentLineNumber(c.p),
			 (unsigned long)XML_GetCurrentColumnNumber(c.p));
	if (!c.err[0] && !c.root)
		snprintf(c.err, sizeof(c.err), "empty XML answer");
	XML_ParserFree(c.p);
	if (c.err[0]) {
		snprintf(err, errlen, "malformed XML answer: %s", c.err);
		ec2_xml_free_blocks(c.first);
		return -EINVAL;
	}
	*root = c.root;
	return 0;
}

const struct ec2_xnode *
ec2_xml_child(const struct ec2_xnode *n, const char *name)
{
	if (!n)
		return NULL;
	for (const struct ec2_xnode *c = n->child; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const struct ec2_xnode *
ec2_xml_next(const struct ec2_xnode *n)
{
	for (const struct ec2_xnode *c = n ? n->next : NULL; c; c = c->next)
		if (strcmp(c->name, n->name) == 0)
			return c;
	return NULL;
}

const struct ec2_xnode *
ec2_xml_path(const struct ec2_xnode *n, const char *path)
{
	char seg[64];

	while (n && *path) {
		const char *slash = strchr(path, '/');
		size_t l = slash ? (size_t)(slash - path) : strlen(path);

		if (l >= sizeof(seg))
			return NULL;
		memcpy(seg, path, l);
		seg[l] = 0;
		n = ec2_xml_child(n, seg);
		path += l + (slash ? 1 : 0);
	}
	return n;
}

const char *
ec2_xml_text(const struct ec2_xnode *n, const char *path)
{
	n = ec2_xml_path(n, path);
	return n ? n->text : NULL;
}

int
ec2_xml_error(const struct ec2_xnode *root, const char **code, const char **message)
{
	const struct ec2_xnode *e;

	if (!root || strcmp(root->name, "Response") != 0)
		return -ENOENT;
	e = ec2_xml_path(root, "Errors/Error");
	if (!e || !ec2_xml_text(e, "Code"))
		return -ENOENT;
	*code = ec2_xml_text(e, "Code");
	*message = ec2_xml_text(e, "Message");
	if (!*message)
		*message = "";
	return 0;
}
