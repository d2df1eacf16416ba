/*
 * ec2_xml.h - EC2 XML answers parsed with libexpat into a small element tree.
 *
 * Untrusted input: the parse is bounded (depth, element count, text size; the body size is
 * bounded by the transport), any DOCTYPE is refused (no entity expansion at all), and every
 * failure is a clear message, never a crash. Namespaces are dropped: elements are matched
 * by local name (EC2 answers use one default namespace).
 */
#ifndef ADC_EC2_XML_H
#define ADC_EC2_XML_H

#include <stddef.h>
#include <stdint.h>

#define EC2_XML_MAX_DEPTH 48
#define EC2_XML_MAX_NODES 4000000
#define EC2_XML_MAX_TEXT  (1u << 20) /* per element */

struct ec2_xnode {
	const char *name; /* local name */
	char *text;	  /* concatenated character data, "" when none and for an element with
			   * children (EC2 and Azure answers have no mixed content) */
	struct ec2_xnode *child, *next;
	uint32_t text_len;
};

/* Parse; 0 and *root, or -EINVAL with a message in err (root NULL). */
int ec2_xml_parse(const char *buf, size_t len, struct ec2_xnode **root, char *err, size_t errlen);
/* Free the whole tree: root must be what ec2_xml_parse gave (the nodes share its blocks). */
void ec2_xml_free(struct ec2_xnode *root);

/* First child named name (NULL when none or n is NULL). */
const struct ec2_xnode *ec2_xml_child(const struct ec2_xnode *n, const char *name);
/* Walks a '/'-separated path of child names: "instanceState/name". */
const struct ec2_xnode *ec2_xml_path(const struct ec2_xnode *n, const char *path);
/* Text of the node at path, or NULL when absent. */
const char *ec2_xml_text(const struct ec2_xnode *n, const char *path);
/* Next sibling with the same name as n. */
const struct ec2_xnode *ec2_xml_next(const struct ec2_xnode *n);

/* EC2's error envelope <Response><Errors><Error><Code/><Message/>: code and message of the
 * first error, 0; -ENOENT when the tree is not an error envelope. */
int ec2_xml_error(const struct ec2_xnode *root, const char **code, const char **message);

#endif
