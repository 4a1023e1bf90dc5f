"""
Starts moto's server with the public SSM parameters the contract suite reads.

AWS publishes the EKS-optimized AMI ids under /aws/service/...; moto ships only a few such
trees (Amazon Linux, ECS) and its PutParameter refuses the reserved /aws/ prefix, as AWS does.
So this launcher teaches moto's parameter store one more tree, loaded the way moto loads its
own (lazily, per account and region, on the first read under /aws/service/): it survives
`POST /moto-api/reset`, which replaces the backends.

usage: python3 moto-launcher.py PARAMETERS.json -H 127.0.0.1 -p PORT
"""
import json
import sys

from moto.server import main
from moto.ssm.models import Parameter, ParameterDict

PUBLIC_PREFIX = "/aws/service/"


def teach_public_parameters(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        parameters = json.load(f)
    moto_check = ParameterDict._check_loading_status

    def check_loading_status(self: ParameterDict, key: str) -> None:
        moto_check(self, key)
        if str(key or "").startswith(PUBLIC_PREFIX) and not getattr(self, "contract_parameters_loaded", False):
            self.contract_parameters_loaded = True
            for p in parameters:
                # dict.__getitem__ of the defaultdict: no recursion into this check
                super(ParameterDict, self).__getitem__(p["Name"]).append(
                    Parameter(
                        account_id=self.account_id,
                        name=p["Name"],
                        value=p["Value"],
                        parameter_type="String",
                        description=None,
                        allowed_pattern=None,
                        keyid=None,
                        last_modified_date=p.get("LastModifiedDate", 1764547200.0),
                        version=1,
                        data_type=p.get("DataType", "text"),
                    )
                )

    ParameterDict._check_loading_status = check_loading_status


if __name__ == "__main__":
    teach_public_parameters(sys.argv[1])
    main(sys.argv[2:])
