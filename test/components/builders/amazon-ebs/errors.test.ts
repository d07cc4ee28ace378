import { DescribeImagesCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { explainSdkError, sdkEc2 } from '../../../../lib/components/builders/amazon-ebs/ec2';

describe('EC2 errors as a user reads them (mocked EC2 client; AWS is not reachable from the test machines)', () => {
  const ec2 = mockClient(EC2Client);
  afterAll(() => ec2.restore());

  test("EC2's own error names the call, the region, EC2's code and message", async () => {
    ec2.on(DescribeImagesCommand).rejects(new EC2ServiceException({
      name: 'InvalidAMIID.NotFound',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: "The image id '[ami-0123]' does not exist",
    }));
    const api = sdkEc2({ region: 'eu-west-1', accessKey: 'AKIAEXAMPLE', secretKey: 'secret' })();
    const error = await api.describeImages({ ImageIds: ['ami-0123'] }).catch((e: Error) => e);
    expect((error as Error).message).toBe("EC2 DescribeImages in eu-west-1 failed: InvalidAMIID.NotFound: The image id '[ami-0123]' does not exist");
    // The code stays the error's name, for code that tells errors apart.
    expect((error as Error).name).toBe('InvalidAMIID.NotFound');
  });

  test('an error that is neither passes through unchanged', () => {
    const plain = new Error('something else');
    expect(explainSdkError(plain, 'RunInstances', 'eu-west-1')).toBe(plain);
  });
});
