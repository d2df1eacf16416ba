/*
 * fuzz_azure_blob.c - libFuzzer target for the blob list answer of the storage endpoint, as
 * the unmanaged-VHD garbage collection reads it (cloudd/azure_vhd.c): the XML through the
 * bounded expat tree (ec2_xml_parse), each <Blob> through the GC's choice
 * (azure_blob_collectable), and the NextMarker. Checks: a blob chosen for deletion is ours
 * (prefix) and its name cannot change the DELETE URL it is put into.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "azure_int.h"
#include "ec2_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char prefix[] = "compute-";
	struct ec2_xnode *root;
	char err[128];

	if (ec2_xml_parse((const char *)data, size, &root, err, sizeof(err)) < 0)
		return 0;
	for (const struct ec2_xnode *b = ec2_xml_path(root, "Blobs/Blob"); b; b = ec2_xml_next(b)) {
		const char *name = azure_blob_collectable(b, prefix, 1700000000, 86400);

		if (name && (strncmp(name, prefix, sizeof(prefix) - 1) != 0 || strlen(name) > 200 ||
			     strpbrk(name, "?#% /")))
			abort();
	}
	(void)ec2_xml_text(root, "NextMarker");
	ec2_xml_free(root);
	return 0;
}
