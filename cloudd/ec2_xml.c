/* ec2_xml.c - libexpat callbacks building the bounded element tree. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "ec2_xml.h"

struct ec2_xctx {
	XML_Parser p;
	struct ec2_xnode *root, *cur;
	size_t depth, nodes;
	char err[160];
};

static void
ec2_xml_fail(struct ec2_xctx *c, const char *msg)
{
	if (!c->err[0])
		snprintf(c->err, sizeof(c->err), "%s at line %lu", msg,
			 (unsigned long)XML_GetCurrentLineNumber(c->p));
	XML_StopParser(c->p, XML_FALSE);
}

static void
ec2_xml_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct ec2_xctx *c = ud;
	const char *local = strrchr(name, '\x01');
	struct ec2_xnode *n;

	(void)atts;
	if (c->err[0])
		return;
	if (++c->depth > EC2_XML_MAX_DEPTH)
		return ec2_xml_fail(c, "XML nested too deeply");
	if (++c->nodes > EC2_XML_MAX_NODES)
		return ec2_xml_fail(c, "XML has too many elements");
	if (!c->cur && c->root)
		return ec2_xml_fail(c, "XML has several root elements");
	n = calloc(1, sizeof(*n));
	if (!n || !(n->name = strdup(local ? local + 1 : name))) {
		free(n);
		return ec2_xml_fail(c, "out of memory");
	}
	n->parent = c->cur;
	if (!c->cur) {
		c->root = n;
	} else {
		if (c->cur->last)
			c->cur->last->next = n;
		else
			c->cur->child = n;
		c->cur->last = n;
	}
	c->cur = n;
}

static void
ec2_xml_end(void *ud, const XML_Char *name)
{
	struct ec2_xctx *c = ud;

	(void)name;
	if (c->err[0] || !c->cur)
		return;
	c->depth--;
	c->cur = c->cur->parent;
}

static void
ec2_xml_chars(void *ud, const XML_Char *s, int len)
{
	struct ec2_xctx *c = ud;
	struct ec2_xnode *n = c->cur;
	char *nt;

	if (c->err[0] || !n || len <= 0)
		return;
	if (n->text_len + (size_t)len > EC2_XML_MAX_TEXT)
		return ec2_xml_fail(c, "XML text too long");
	nt = realloc(n->text, n->text_len + (size_t)len + 1);
	if (!nt)
		return ec2_xml_fail(c, "out of memory");
	memcpy(nt + n->text_len, s, (size_t)len);
	n->text = nt;
	n->text_len += (size_t)len;
	nt[n->text_len] = 0;
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

void
ec2_xml_free(struct ec2_xnode *n)
{
	/* Iterative over siblings, recursive over depth (bounded by EC2_XML_MAX_DEPTH). */
	while (n) {
		struct ec2_xnode *next = n->next;

		ec2_xml_free(n->child);
		free(n->name);
		free(n->text);
		free(n);
		n = next;
	}
}

static void
ec2_xml_fill_text(struct ec2_xnode *n)
{
	for (; n; n = n->next) {
		if (!n->text)
			n->text = calloc(1, 1);
		ec2_xml_fill_text(n->child);
	}
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
		ec2_xml_free(c.root);
		return -EINVAL;
	}
	ec2_xml_fill_text(c.root);
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
