/*
 * builtin.c - the built-in sample catalog, so a fresh machine with no
 * catalog files still plans real jobs offline.
 *
 * Hand-made, a few dozen rows, in SkyPilot's per-cloud CSV format:
 * - AWS: public on-demand list prices (Linux, us-east-1 / us-west-2 /
 *   eu-west-1) as published by AWS in 2024-06. The one spot price is the
 *   p3.2xlarge figure of the "Can't Be Late" paper (NSDI'24); AWS spot prices
 *   change hourly, so the sample lists no others.
 * - GCP, Azure, Lambda: rows of SkyPilot's public catalog as refreshed on
 *   2026-05-20 (prices and spot prices as listed there).
 * Refresh with `skyc catalog fetch` for the full, current catalogs.
 */
#include "core/common.h"
#include "catalog/catalog_internal.h"

static const char aws_csv[] =
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,"
    "Price,SpotPrice,Region,AvailabilityZone,Arch\n"
    "t3.medium,,,2,4,,0.0416,,us-east-1,us-east-1a,x86_64\n"
    "m5.large,,,2,8,,0.096,,us-east-1,us-east-1a,x86_64\n"
    "m5.xlarge,,,4,16,,0.192,,us-east-1,us-east-1a,x86_64\n"
    "m5.2xlarge,,,8,32,,0.384,,us-east-1,us-east-1a,x86_64\n"
    "m5.4xlarge,,,16,64,,0.768,,us-east-1,us-east-1a,x86_64\n"
    "m5.8xlarge,,,32,128,,1.536,,us-east-1,us-east-1a,x86_64\n"
    "c5.2xlarge,,,8,16,,0.34,,us-east-1,us-east-1a,x86_64\n"
    "r5.2xlarge,,,8,64,,0.504,,us-east-1,us-east-1a,x86_64\n"
    "g4dn.xlarge,T4,1,4,16,,0.526,,us-east-1,us-east-1a,x86_64\n"
    "g4dn.12xlarge,T4,4,48,192,,3.912,,us-east-1,us-east-1a,x86_64\n"
    "g5.xlarge,A10G,1,4,16,,1.006,,us-east-1,us-east-1a,x86_64\n"
    "g5.12xlarge,A10G,4,48,192,,5.672,,us-east-1,us-east-1a,x86_64\n"
    "p3.2xlarge,V100,1,8,61,,3.06,,us-east-1,us-east-1a,x86_64\n"
    "p3.8xlarge,V100,4,32,244,,12.24,,us-east-1,us-east-1a,x86_64\n"
    "p3.16xlarge,V100,8,64,488,,24.48,,us-east-1,us-east-1a,x86_64\n"
    "p4d.24xlarge,A100,8,96,1152,,32.7726,,us-east-1,us-east-1a,x86_64\n"
    "p5.48xlarge,H100,8,192,2048,,98.32,,us-east-1,us-east-1a,x86_64\n"
    "m5.xlarge,,,4,16,,0.192,,us-west-2,us-west-2a,x86_64\n"
    "m5.2xlarge,,,8,32,,0.384,,us-west-2,us-west-2a,x86_64\n"
    "g4dn.xlarge,T4,1,4,16,,0.526,,us-west-2,us-west-2a,x86_64\n"
    "p3.2xlarge,V100,1,8,61,,3.06,0.9731,us-west-2,us-west-2a,x86_64\n"
    "p3.16xlarge,V100,8,64,488,,24.48,,us-west-2,us-west-2a,x86_64\n"
    "p4d.24xlarge,A100,8,96,1152,,32.7726,,us-west-2,us-west-2a,x86_64\n"
    "m5.xlarge,,,4,16,,0.214,,eu-west-1,eu-west-1a,x86_64\n"
    "m5.2xlarge,,,8,32,,0.428,,eu-west-1,eu-west-1a,x86_64\n"
    "c5.2xlarge,,,8,16,,0.384,,eu-west-1,eu-west-1a,x86_64\n"
    "g4dn.xlarge,T4,1,4,16,,0.587,,eu-west-1,eu-west-1a,x86_64\n"
    "p3.2xlarge,V100,1,8,61,,3.305,,eu-west-1,eu-west-1a,x86_64\n";

static const char gcp_csv[] =
    "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,"
    "Region,AvailabilityZone,Price,SpotPrice\n"
    "e2-standard-4,4.0,16.0,,,,us-central1,us-central1-a,0.13402,0.06702\n"
    "n2-standard-8,8.0,32.0,,,,us-central1,us-central1-a,0.38847,0.12568\n"
    "n2-standard-32,32.0,128.0,,,,us-central1,us-central1-a,1.55389,0.50272\n"
    "n1-highmem-8,8.0,52.0,,,,us-central1,us-central1-a,0.47321,0.17276\n"
    "a2-highgpu-1g,12.0,85.0,,,,us-central1,us-central1-a,0.73948,0.36975\n"
    "a2-highgpu-8g,96.0,680.0,,,,us-central1,us-central1-a,5.91582,2.958\n"
    "g2-standard-8,8.0,32.0,,,,us-central1,us-central1-a,0.29358,0.12336\n"
    ",,,V100,1,,us-central1,us-central1-a,2.48,1.24\n"
    ",,,A100,1,,us-central1,us-central1-a,2.93391,1.4341\n"
    ",,,A100,8,,us-central1,us-central1-a,23.47126,11.4728\n"
    ",,,L4,1,,us-central1,us-central1-a,0.56004,0.2343\n"
    "e2-standard-4,4.0,16.0,,,,europe-west4,europe-west4-a,0.14754,0.06418\n"
    "n2-standard-8,8.0,32.0,,,,europe-west4,europe-west4-a,0.42766,0.15622\n"
    "n2-standard-32,32.0,128.0,,,,europe-west4,europe-west4-a,1.71066,0.6249\n"
    "n1-highmem-8,8.0,52.0,,,,europe-west4,europe-west4-a,0.52094,0.20628\n"
    "a2-highgpu-1g,12.0,85.0,,,,europe-west4,europe-west4-a,0.81406,0.33413\n"
    "a2-highgpu-8g,96.0,680.0,,,,europe-west4,europe-west4-a,6.51251,2.67308\n"
    "g2-standard-8,8.0,32.0,,,,europe-west4,europe-west4-a,0.30857,0.15426\n"
    ",,,V100,1,,europe-west4,europe-west4-a,2.604,0.7656\n"
    ",,,A100,1,,europe-west4,europe-west4-a,1.61365,1.2276\n"
    ",,,A100,8,,europe-west4,europe-west4-a,12.90919,9.8208\n"
    ",,,L4,1,,europe-west4,europe-west4-a,0.58804,0.2631\n";

static const char azure_csv[] =
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,"
    "Price,SpotPrice,Region,Generation\n"
    "Standard_D4s_v5,,,4,16,,0.192,0.040723,eastus,\"V1,V2\"\n"
    "Standard_D8s_v5,,,8,32,,0.384,0.081446,eastus,\"V1,V2\"\n"
    "Standard_NC6s_v3,V100,1,6,112,V100,3.06,0.565488,eastus,\"V1,V2\"\n"
    "Standard_NC24s_v3,V100,4,24,448,V100,12.24,2.261952,eastus,\"V1,V2\"\n"
    "Standard_D32s_v5,,,32,128,,1.536,0.325786,eastus,\"V1,V2\"\n"
    "Standard_NC24ads_A100_v4,A100-80GB,1,24,220,A100-80GB,3.673,0.746721,"
    "eastus,V2\n"
    "Standard_ND96asr_v4,A100,8,96,900,A100,27.197,5.98334,eastus,V2\n"
    "Standard_D4s_v5,,,4,16,,0.23,0.042504,westeurope,\"V1,V2\"\n"
    "Standard_D8s_v5,,,8,32,,0.46,0.085008,westeurope,\"V1,V2\"\n"
    "Standard_NC6s_v3,V100,1,6,112,V100,3.823,0.70649,westeurope,\"V1,V2\"\n"
    "Standard_ND96asr_v4,A100,8,96,900,A100,35.357,7.77854,westeurope,V2\n";

static const char lambda_csv[] =
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,"
    "Region,GpuInfo,SpotPrice\n"
    "gpu_1x_a100_sxm4,A100,1.0,30.0,200.0,1.99,us-east-1,,\n"
    "gpu_1x_a100_sxm4,A100,1.0,30.0,200.0,1.99,europe-central-1,,\n";

const char *catalog_builtin_csv(enum cloud c, const char **date)
{
    switch (c) {
    case CLOUD_AWS:
        *date = "AWS list prices 2024-06";
        return aws_csv;
    case CLOUD_GCP:
        *date = "SkyPilot catalog 2026-05-20";
        return gcp_csv;
    case CLOUD_AZURE:
        *date = "SkyPilot catalog 2026-05-20";
        return azure_csv;
    case CLOUD_LAMBDA:
        *date = "SkyPilot catalog 2026-05-20";
        return lambda_csv;
    default:
        return NULL;
    }
}
