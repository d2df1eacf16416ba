/* params_defaults.c - see params_defaults.h. */
#include "params_defaults.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* config.default.yml's DriverParameters, key by key (spec 2.1 for EC2, 3.1 for Azure). */
const char params_defaults_json[] =
	"{"
	/* EC2 */
	"\"AccessKeyID\":\"\",\"SecretAccessKey\":\"\",\"SecurityGroupIDs\":{},"
	"\"SubnetID\":\"\",\"Region\":\"\",\"EBSVolumeType\":\"gp2\",\"EBSPrice\":0.10,"
	"\"AdminUsername\":\"crunch\",\"IAMInstanceProfile\":\"\","
	"\"SpotPriceUpdateInterval\":\"24h\","
	"\"InstanceTypeQuotaGroups\":{\"a\":\"standard\",\"c\":\"standard\",\"d\":\"standard\","
	"\"h\":\"standard\",\"i\":\"standard\",\"m\":\"standard\",\"r\":\"standard\","
	"\"t\":\"standard\",\"z\":\"standard\",\"vt\":\"g\",\"p5\":\"p5\"},"
	/* Azure */
	"\"SubscriptionID\":\"\",\"ClientID\":\"\",\"ClientSecret\":\"\",\"TenantID\":\"\","
	"\"CloudEnvironment\":\"AzurePublicCloud\",\"Location\":\"centralus\","
	"\"ResourceGroup\":\"\",\"NetworkResourceGroup\":\"\",\"Network\":\"\",\"Subnet\":\"\","
	"\"ImageResourceGroup\":\"\",\"SharedImageGalleryName\":\"\","
	"\"SharedImageGalleryImageVersion\":\"\",\"StorageAccount\":\"\",\"BlobContainer\":\"\","
	"\"DeleteDanglingResourcesAfter\":\"20s\""
	"}";

/* Adds a copy of each entry of def that obj lacks (case-insensitive names). */
static int
params_merge_object(cJSON *obj, const cJSON *def, bool deep)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, def)
	{
		cJSON *have = cJSON_GetObjectItem(obj, d->string); /* case-insensitive */
		cJSON *copy;

		if (have != NULL && cJSON_IsNull(have) && cJSON_IsObject(d)) {
			/* An empty map in YAML ("InstanceTypeQuotaGroups:") merges as none. */
			cJSON_DeleteItemFromObject(obj, d->string);
			have = NULL;
		}
		if (have != NULL) {
			if (deep && cJSON_IsObject(have) && cJSON_IsObject(d) &&
			    params_merge_object(have, d, false) != 0)
				return -ENOMEM;
			continue;
		}
		if ((copy = cJSON_Duplicate(d, true)) == NULL ||
		    !cJSON_AddItemToObject(obj, d->string, copy)) {
			cJSON_Delete(copy);
			return -ENOMEM;
		}
	}
	return 0;
}

int
params_merge_defaults(cJSON *params)
{
	cJSON *def;
	int r;

	if (!cJSON_IsObject(params))
		return -EINVAL;
	if ((def = cJSON_Parse(params_defaults_json)) == NULL)
		return -ENOMEM;
	r = params_merge_object(params, def, true);
	cJSON_Delete(def);
	return r;
}
