/*
 * bench_ec2_xml: the memory and time of one DescribeInstances page in cloudd's XML tree
 * (cloudd/ec2_xml.c; issue 16, cloudd's share of the 64 MB).
 *
 * The page is 1,000 instances of the shape fake_ec2 answers (botocore's output shape, as
 * in bench_e2e_scale; about 3.2 KB and 93 elements each). cloudd's malloc setting (a fixed
 * mmap threshold, cloudd/main.c) is applied first. Prints, over several parses (median):
 * the page's bytes, the tree's bytes while it is held (malloc's own count, mallinfo2: heap in
 * use plus mapped blocks) and per element, how much of it was in blocks that go back to the
 * system when freed, how much the heap grew for it and keeps after the free (resident until
 * a malloc_trim), and the parse time. Before the tree was built in blocks (commit 227fbc4,
 * this bench built against its ec2_xml.c): 12.23 MB while held (130 B per element), all in
 * small heap blocks, 15.54 MB of heap kept after the free, 45-53 ms a page.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_stats.h"
#include "ec2_xml.h"
#include "heap_tune.h"

#define BENCH_INSTANCES 1000
#define BENCH_RUNS	7

static const char bench_instance[] =
	"<item><amiLaunchIndex>0</amiLaunchIndex><imageId>ami-0123456789abcdef0</imageId><instanc"
	"eId>i-%1$017llx</instanceId><instanceType>t3.xlarge</instanceType><launchTime>2026-12-06T1"
	"6:52:27.269Z</launchTime><monitoring><state>disabled</state></monitoring><placement><ava"
	"ilabilityZone>us-east-1a</availabilityZone><groupName></groupName><tenancy>default</tena"
	"ncy></placement><privateDnsName>ip-127-2-%2$d-%3$d.ec2.internal</privateDnsName><private"
	"IpAddress>127.2.%2$d.%3$d</privateIpAddress><productCodes></productCodes><dnsName></dnsN"
	"ame><instanceState><code>16</code><name>running</name></instanceState><reason></reason><"
	"subnetId>subnet-7f9d552f864d18100</subnetId><vpcId>vpc-c800b6d9163b0db7d</vpcId><archite"
	"cture>x86_64</architecture><blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><"
	"ebs><attachTime>2026-12-06T16:52:27.269Z</attachTime><deleteOnTermination>true</deleteOn"
	"Termination><status>attached</status><volumeId>vol-090d601afbdfc2eaa</volumeId></ebs></i"
	"tem></blockDeviceMapping><clientToken>ae6869e6-e59a-4e5c-943a-c1e4d248a7cd</clientToken>"
	"<ebsOptimized>false</ebsOptimized><enaSupport>true</enaSupport><hypervisor>xen</hypervis"
	"or><networkInterfaceSet><item><attachment><attachTime>2026-12-06T16:52:27.269Z</attachTi"
	"me><attachmentId>eni-attach-70b6dbd69325954a4</attachmentId><deleteOnTermination>true</d"
	"eleteOnTermination><deviceIndex>0</deviceIndex><status>attached</status><networkCardInde"
	"x>0</networkCardIndex></attachment><description></description><groupSet><item><groupName"
	">default</groupName><groupId>sg-c21f969b5f03d33d4</groupId></item></groupSet><macAddress"
	">06:69:41:77:c9:41</macAddress><networkInterfaceId>eni-70b6dbd69325954a4</networkInterfa"
	"ceId><ownerId>123456789012</ownerId><privateDnsName>ip-127-2-%2$d-%3$d.ec2.internal</pri"
	"vateDnsName><privateIpAddress>127.2.%2$d.%3$d</privateIpAddress><privateIpAddressesSet><"
	"item><primary>true</primary><privateDnsName>ip-127-2-%2$d-%3$d.ec2.internal</privateDnsN"
	"ame><privateIpAddress>127.2.%2$d.%3$d</privateIpAddress></item></privateIpAddressesSet><"
	"sourceDestCheck>true</sourceDestCheck><status>in-use</status><subnetId>subnet-7f9d552f86"
	"4d18100</subnetId><vpcId>vpc-c800b6d9163b0db7d</vpcId><interfaceType>interface</interfac"
	"eType></item></networkInterfaceSet><rootDeviceName>/dev/xvda</rootDeviceName><rootDevice"
	"Type>ebs</rootDeviceType><groupSet><item><groupName>default</groupName><groupId>sg-c21f9"
	"69b5f03d33d4</groupId></item></groupSet><sourceDestCheck>true</sourceDestCheck><tagSet><"
	"item><key>ArvadosInstanceSetID</key><value>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</value></ite"
	"m><item><key>ArvadosInstanceType</key><value>bench</value></item><item><key>ArvadosIdleB"
	"ehavior</key><value>run</value></item><item><key>ArvadosInstanceSecret</key><value>%4$03"
	"2x</value></item></tagSet><virtualizationType>hvm</virtualizationType><metadataOptions><"
	"state>applied</state><httpTokens>optional</httpTokens><httpPutResponseHopLimit>1</httpPu"
	"tResponseHopLimit><httpEndpoint>enabled</httpEndpoint><httpProtocolIpv6>disabled</httpPr"
	"otocolIpv6><instanceMetadataTags>disabled</instanceMetadataTags></metadataOptions><platf"
	"ormDetails>Linux/UNIX</platformDetails><usageOperation>RunInstances</usageOperation></it"
	"em>";

static char *
bench_page(size_t *len)
{
	size_t cap = (size_t)BENCH_INSTANCES * (sizeof(bench_instance) + 64) + 1024, n = 0;
	char *p = malloc(cap);

	if (!p)
		return NULL;
	n += (size_t)snprintf(
		p + n, cap - n,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeInstancesResponse "
		"xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>439e0000-"
		"3fdf-46c6-8a62-41a1a2883d8b</requestId><reservationSet><item><groupSet>"
		"</groupSet><instancesSet>");
	for (int i = 0; i < BENCH_INSTANCES; i++)
		n += (size_t)snprintf(p + n, cap - n, bench_instance,
				      (unsigned long long)0x7ae40d9420d48000u + (unsigned)i,
				      i / 250, 4 + i % 250, i);
	n += (size_t)snprintf(
		p + n, cap - n,
		"</instancesSet><ownerId>123456789012</ownerId><reservationId>r-f879a9"
		"019d9e85946</reservationId></item></reservationSet>"
		"</DescribeInstancesResponse>");
	*len = n;
	return p;
}

static size_t
bench_count(const struct ec2_xnode *n)
{
	size_t c = 0;

	for (; n; n = n->next)
		c += 1 + bench_count(n->child);
	return c;
}

int
main(void)
{
	double tree[BENCH_RUNS], mapped[BENCH_RUNS], kept[BENCH_RUNS], ms[BENCH_RUNS];
	size_t len, elements = 0;
	char *page, err[200];

	heap_map_large_blocks(); /* as cloudd/main.c */
	if (!(page = bench_page(&len)))
		return 1;
	struct mallinfo2 start = mallinfo2();

	for (int r = 0; r < BENCH_RUNS; r++) {
		struct mallinfo2 a = mallinfo2(), b, c;
		struct ec2_xnode *root;
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (ec2_xml_parse(page, len, &root, err, sizeof(err)) != 0) {
			fprintf(stderr, "bench_ec2_xml: %s\n", err);
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		b = mallinfo2();
		elements = bench_count(root);
		ec2_xml_free(root);
		c = mallinfo2();
		tree[r] = (double)(b.uordblks - a.uordblks) + (double)(b.hblkhd - a.hblkhd);
		mapped[r] = (double)b.hblkhd - (double)a.hblkhd;
		kept[r] = (double)c.arena - (double)start.arena;
		ms[r] = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			(double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	}
	printf("DescribeInstances page: %d instances, %.2f MB of XML, %zu elements\n",
	       BENCH_INSTANCES, (double)len / 1e6, elements);
	printf("%-46s %8.2f MB   (%.0f B per element; 12.23 MB before, in small heap blocks)\n",
	       "tree while held (median)", bench_median(tree, BENCH_RUNS) / 1e6,
	       bench_median(tree, BENCH_RUNS) / (double)elements);
	printf("%-46s %8.2f MB   (returned to the system at the free)\n",
	       "  of which in mapped blocks", bench_median(mapped, BENCH_RUNS) / 1e6);
	printf("%-46s %8.2f MB   (free, but resident until a trim)\n",
	       "heap grown and kept by malloc after the free",
	       bench_median(kept, BENCH_RUNS) / 1e6);
	printf("%-46s %8.1f ms\n", "parse time per page (median)", bench_median(ms, BENCH_RUNS));
	free(page);
	return 0;
}
